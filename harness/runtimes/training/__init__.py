"""Training executor: runs a CreateTrainingJob request for real in SageMaker's container layout."""
