"""Number plates, whatever feature holds them: kinds and format rules (GA 36-2018) in `rules`, and the
office's registers in `registers` (one question, "is this plate held anywhere?", answered by every
feature that holds plates). Shared core: features import it; it imports no feature.
"""
