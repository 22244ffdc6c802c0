from rest_framework.routers import SimpleRouter

from planning import api

router = SimpleRouter()
router.register("planning/devices", api.DeviceViewSet, basename="api-device")
router.register("planning/device-sizes", api.DeviceSizeViewSet, basename="api-device-size")
router.register("planning/plans", api.PlanViewSet, basename="api-plan")
router.register("planning/checklist-items", api.ChecklistItemViewSet, basename="api-checklist-item")
router.register("planning/procedure-records", api.ProcedureRecordViewSet, basename="api-record")

urlpatterns = router.urls
