from services.kit.run import run_service
from services.notify.app import create_app
from services.notify.settings import NotifySettings

run_service("notify", NotifySettings, create_app)
