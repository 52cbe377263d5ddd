from services.kit.run import run_service
from services.routing.app import create_app
from services.routing.settings import RoutingSettings

run_service("routing", RoutingSettings, create_app)
