from services.routing.app import create_app
from services.routing.settings import RoutingSettings
from services.kit.run import run_service

run_service("routing", RoutingSettings, create_app)
