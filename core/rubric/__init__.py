"""The ML Test Score rubric (Breck et al., 2017): catalogue, checks, scoring, results, attestations."""
