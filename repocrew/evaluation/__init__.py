"""`repocrew eval`: the crew on real bug-fix tasks (a manifest of published releases), through
the same path a user's repository takes, scored as SWE-bench scores: FAIL_TO_PASS and
PASS_TO_PASS tests of the fixed release."""
