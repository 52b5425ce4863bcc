"""The showroom traffic log: registering walk-ins and closing their visits."""
from flask import Blueprint

bp = Blueprint("walk_ins", __name__)
