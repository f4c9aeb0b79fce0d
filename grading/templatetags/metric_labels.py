"""Template filters that name stored score values for people, through exercises.metrics."""

from django import template

from exercises.metrics import value_label

register = template.Library()


@register.filter
def metric_label(name: str) -> str:
    """Return the people's name of a stored score value ("b_light_auc" -> "ROC AUC, b-jets against light jets")."""
    return value_label(name)
