"""Example trainers: `train(job, context) -> metrics`, named as `--trainer examples.trainers.<module>:train`."""
