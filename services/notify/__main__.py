from services.notify.app import create_app
from services.notify.settings import NotifySettings
from services.kit.run import run_service

run_service("notify", NotifySettings, create_app)
