// Replaced by the delta engine sources.
