from rest_framework.routers import SimpleRouter

from cases import api

router = SimpleRouter()
router.register("patients", api.PatientViewSet, basename="api-patient")
router.register("cases", api.CaseViewSet, basename="api-case")

urlpatterns = router.urls
