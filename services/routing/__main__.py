from services.kit.run import serve
from services.routing.app import create_app
from services.routing.settings import RoutingSettings

settings = RoutingSettings()
serve(create_app(settings), host=settings.host, port=settings.port)
