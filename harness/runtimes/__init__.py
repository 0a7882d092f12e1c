"""Runtimes of the embedded `local` target: what AWS runs on the caller's behalf.

The training executor, the endpoint server and the Lambda runner really train, serve and run
code; they reach AWS only through the boto3 access they are handed (`aws.AwsAccess`), so the
enforcement gateway in front of moto decides what each role may do, exactly where AWS would.

Entry points:
- `training.executor.start_training_job(request, role_access, on_status)`: CreateTrainingJob
- `endpoint.hosting.HostedEndpoint(name, model, access, on_state).start()`: CreateEndpoint
- `endpoint.invoke.invoke_endpoint(url, body, content_type, accept)`: InvokeEndpoint
- `lambda_runner.invoke_function(function, payload, access, log_type, warm)`: Lambda Invoke, in
  an environment kept warm in `warm` (`lambda_runner.Environments`) between invocations
"""
