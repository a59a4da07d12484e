"""One router per resource: health, ask (and ask-visual), forecast, predictions."""
