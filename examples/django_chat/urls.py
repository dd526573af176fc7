from django.urls import path

from .chat import views

urlpatterns = [
    path("rooms/<slug:room>/announce", views.announce, name="announce"),
]
