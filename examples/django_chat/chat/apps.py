from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "examples.django_chat.chat"
    label = "chat"
