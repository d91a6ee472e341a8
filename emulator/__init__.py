"""Runs the pattern without an AWS account: the real ASL file and worker code on moto."""
