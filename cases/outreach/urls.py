"""The SMS provider's callbacks (receipts and replies), under ``/outreach/``."""

from django.urls import path

from cases.outreach import views

app_name = "outreach"
urlpatterns = [
    path("receipts/sms/<str:secret>/", views.sms_receipts, name="sms_receipts"),
    path("replies/sms/<str:secret>/", views.sms_replies, name="sms_replies"),
]
