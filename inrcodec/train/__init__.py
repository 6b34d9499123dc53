"""The encoder: plans, fitting, losses, GOM jobs and their runners (torch training)."""
