from django.urls import path

from followup import views

app_name = "followup"
urlpatterns = [
    path("worklist/", views.worklist, name="worklist"),
    path("visits/<int:pk>/", views.visit_detail, name="visit"),
    path("visits/<int:pk>/contacts/", views.contact_create, name="contact-create"),
    path("visits/<int:pk>/reschedule/", views.visit_reschedule, name="visit-reschedule"),
    path("visits/<int:pk>/close/", views.visit_close, name="visit-close"),
    path("visits/<int:pk>/letter.pdf", views.visit_letter, name="visit-letter"),
    path("visits/<int:pk>/result/", views.visit_result, name="visit-result"),
    path("schedules/<int:pk>/", views.schedule_detail, name="schedule"),
    path(
        "schedules/<int:pk>/reinterventions/new/",
        views.reintervention_create,
        name="reintervention-create",
    ),
    path("cases/<int:case_pk>/", views.case_schedules, name="case"),
    path("escalations/", views.escalation_list, name="escalations"),
    path("escalations/<int:pk>/", views.escalation_detail, name="escalation"),
    path(
        "escalations/<int:pk>/acknowledge/",
        views.escalation_acknowledge,
        name="escalation-acknowledge",
    ),
    path("escalations/<int:pk>/decide/", views.escalation_decide, name="escalation-decide"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification-open"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications-read-all"),
    path("patency/", views.patency_page, name="patency"),
    path("patency.csv", views.patency_csv, name="patency-csv"),
    path("patency/reports/<int:pk>/", views.patency_report, name="patency-report"),
    path("protocols/", views.protocol_list, name="protocols"),
    path("protocols/<int:pk>/", views.protocol_detail, name="protocol"),
    path("protocols/<int:pk>/revise/", views.protocol_revise, name="protocol-revise"),
]
