package bench

// classifyTyped knows the error types of the batchring packages.
func classifyTyped(err error) (Outcome, bool) {
	return Outcome{}, false
}
