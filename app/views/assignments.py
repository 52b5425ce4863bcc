"""A manager's hand on who works which lead: the dealer's pool, assigning and reassigning, shifts."""
from flask import Blueprint

bp = Blueprint("assignments", __name__)
