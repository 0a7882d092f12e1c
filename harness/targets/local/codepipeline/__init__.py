"""CodePipeline on the local target: the API (``CodePipelineApi``), the store and scheduler of
executions (``PipelineStore``), the runner and one module per action type, and EventBridge
delivery to pipeline targets (``EventDelivery``)."""
