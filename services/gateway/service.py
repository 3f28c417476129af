"""The gateway: HTTP for integrators and residents. Auth and tenancy here; no domain logic.

Every route authenticates (except the resident's pages), then asks the owning service over
RPC with the caller's tenant. Another tenant's id is simply not found. The routes live in
``services.gateway.routes``, one mixin per domain; this class only combines them.
"""

from __future__ import annotations

from services.gateway.people import PeopleRoutes
from services.gateway.residents import ResidentActions
from services.gateway.routes.api_description import ApiDescriptionRoutes
from services.gateway.routes.cases import CaseRoutes
from services.gateway.routes.community import CommunityRoutes
from services.gateway.routes.households import HouseholdRoutes
from services.gateway.routes.keys import KeyRoutes
from services.gateway.routes.notifications import NotificationRoutes
from services.gateway.routes.open311 import Open311Routes
from services.gateway.routes.operations import OperationRoutes
from services.gateway.routes.photos import PhotoRoutes
from services.gateway.routes.resident_pages import ResidentPages
from services.gateway.routes.static import StaticRoutes
from services.gateway.routes.surveys import SurveyRoutes
from services.gateway.routes.volunteer_pages import VolunteerPageRoutes
from services.gateway.routes.volunteers import VolunteerRoutes
from services.gateway.routes.workbench import WorkbenchRoutes
from services.gateway.routes.workbench_branch import BranchRoutes
from services.gateway.routes.workbench_incidents import WorkbenchIncidentRoutes
from services.gateway.routes.workbench_settings import WorkbenchSettingsRoutes
from services.gateway.routes.workbench_statistics import WorkbenchStatisticsRoutes
from services.gateway.routes.workbench_volunteers import WorkbenchVolunteerRoutes


class GatewayService(
    BranchRoutes,
    WorkbenchIncidentRoutes,
    WorkbenchSettingsRoutes,
    WorkbenchStatisticsRoutes,
    WorkbenchVolunteerRoutes,
    WorkbenchRoutes,
    CaseRoutes,
    VolunteerRoutes,
    VolunteerPageRoutes,
    NotificationRoutes,
    SurveyRoutes,
    KeyRoutes,
    Open311Routes,
    CommunityRoutes,
    ResidentPages,
    HouseholdRoutes,
    ResidentActions,
    OperationRoutes,
    ApiDescriptionRoutes,
    StaticRoutes,
    PeopleRoutes,
    PhotoRoutes,
):
    name = "gateway"
