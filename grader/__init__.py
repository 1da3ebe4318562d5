"""socklab's grader: runs the labs' Bats tests against an implementation and scores them."""
