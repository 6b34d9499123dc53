"""Aids for fuzzing and limit tests: valid files with extreme headers, structure-aware mutations."""
