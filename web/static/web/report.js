// /report/: "use my location" fills the hidden lat/lng from the browser's geolocation, and the
// photo field refuses more than nine photos before they are sent. Without JavaScript the form
// still works: the citizen types an address and chooses an area.
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) return;
  var locate = document.getElementById("locate");
  var status = document.getElementById("located");
  var lat = document.getElementById("lat");
  var lng = document.getElementById("lng");
  if (navigator.geolocation && locate) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(
        function (pos) {
          lat.value = pos.coords.latitude.toFixed(6);
          lng.value = pos.coords.longitude.toFixed(6);
          status.textContent = status.dataset.ok;
        },
        function () {
          status.textContent = status.dataset.fail;
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  }
  var photos = document.getElementById("photos");
  if (photos) {
    photos.addEventListener("change", function () {
      var max = parseInt(photos.dataset.max, 10);
      photos.setCustomValidity(photos.files.length > max ? photos.dataset.tooMany || ("≤ " + max) : "");
    });
  }
})();
