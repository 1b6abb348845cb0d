"""How the crew works together, measured from the store (`repocrew metrics`, `/crew metrics`)."""
