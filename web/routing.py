from django.urls import path

from web import consumers

websocket_urlpatterns = [
    path("ws/agent/", consumers.AgentConsumer.as_asgi()),
    path("ws/unit/", consumers.UnitConsumer.as_asgi()),
    path("ws/dispatch/", consumers.DispatchConsumer.as_asgi()),
    path("ws/wallboard/", consumers.WallboardConsumer.as_asgi()),
]
