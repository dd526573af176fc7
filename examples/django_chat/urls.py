from django.urls import path

from .chat import views

urlpatterns = [
    path("rooms/<str:room>/announce", views.announce, name="announce"),
]
