"""Domain logic: each module owns its rules and transactions and never imports from the views."""


class FieldError(ValueError):
    """A request the rules refuse. The message is for the person who asked; `field` names the form field it
    belongs to ("form" for the form as a whole). Each service names its own kind (DeskError, RuleError, ...)."""

    def __init__(self, field: str, message):
        super().__init__(message)
        self.field = field
