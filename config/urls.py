from captcha.views import captcha_audio, captcha_image
from django.contrib import admin
from django.urls import include, path, re_path

from web.api.docs import SchemaView, SwaggerView

urlpatterns = [
    path("", include("web.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # The CAPTCHA's picture (django-simple-captcha), asked for on /report/ after suspicious volume.
    re_path(r"^captcha/image/(?P<key>\w+)/$", captcha_image, name="captcha-image", kwargs={"scale": 1}),
    # Its letters spoken, only when the flite binary is configured (CAPTCHA_FLITE_PATH; else 404).
    re_path(r"^captcha/audio/(?P<key>\w+)\.wav$", captcha_audio, name="captcha-audio"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("web.api.urls")),
    path("api/110/v1/", include("web.referrals110.urls")),
    path("open311/v2/", include("web.open311.urls")),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="api-docs"),
]
