"""Domain logic: each module owns its rules and transactions and never imports from the views."""
