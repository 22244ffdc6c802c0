from django.urls import path

from planning import views

app_name = "planning"
urlpatterns = [
    path("cases/<int:case_pk>/new/", views.plan_create, name="plan-create"),
    path("plans/<int:pk>/", views.plan_detail, name="plan-detail"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan-edit"),
    path("plans/<int:pk>/stents/", views.plan_stents, name="plan-stents"),
    path("plans/<int:pk>/stents/propose/", views.plan_stents_propose, name="plan-stents-propose"),
    path("plans/<int:pk>/sign/", views.plan_sign, name="plan-sign"),
    path("plans/<int:pk>/reopen/", views.plan_reopen, name="plan-reopen"),
    path("plans/<int:pk>/pdf/", views.plan_pdf, name="plan-pdf"),
    path("plans/<int:pk>/history/", views.plan_history, name="plan-history"),
    path("plans/<int:pk>/items/add/", views.item_add, name="item-add"),
    path("plans/<int:pk>/record/", views.record_create, name="record-create"),
    path("items/<int:pk>/tick/", views.item_tick, name="item-tick"),
    path("items/<int:pk>/untick/", views.item_untick, name="item-untick"),
    path("items/<int:pk>/edit/", views.item_edit, name="item-edit"),
    path("items/<int:pk>/remove/", views.item_remove, name="item-remove"),
    path("records/<int:pk>/", views.record_detail, name="record-detail"),
    path("records/<int:pk>/edit/", views.record_edit, name="record-edit"),
    path("records/<int:pk>/complete/", views.record_complete, name="record-complete"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("catalogue/new/", views.device_edit, name="device-create"),
    path("catalogue/<int:pk>/", views.device_edit, name="device-edit"),
    path("catalogue/<int:pk>/retire/", views.device_retire, name="device-retire"),
    path("catalogue/<int:pk>/history/", views.device_history, name="device-history"),
    path("templates/", views.template_list, name="templates"),
    path("templates/new/", views.template_edit, name="template-create"),
    path("templates/<int:pk>/", views.template_edit, name="template-edit"),
    path("templates/<int:pk>/retire/", views.template_retire, name="template-retire"),
    path("templates/<int:pk>/history/", views.template_history, name="template-history"),
]
