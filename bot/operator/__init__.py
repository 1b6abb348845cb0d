"""The operator's tools: `repocrew doctor` (is everything in place?) and `repocrew setup github`
(create the GitHub App through its manifest flow)."""
