from django.urls import include, path

from chanx.ext.channels.asyncapi import asyncapi_urls

from .chat import views

urlpatterns = [
    path("rooms/<str:room>/announce", views.announce, name="announce"),
    # The websocket API's AsyncAPI document: /asyncapi/ (page), /asyncapi/asyncapi.json
    path("asyncapi/", include(asyncapi_urls(title="chanx Django example", version="1.0.0"))),
]
