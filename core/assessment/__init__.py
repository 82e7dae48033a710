"""Maturity assessment: models, answers, scores, gaps, recommendations and reports."""
