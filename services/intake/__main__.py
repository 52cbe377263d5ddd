from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from services.kit.run import run_service

run_service("intake", IntakeSettings, create_app)
