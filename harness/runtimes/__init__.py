"""Runtimes of the embedded `local` target: what AWS runs on the caller's behalf.

The training executor, the endpoint server and the Lambda runner really train, serve and run
code; they reach AWS only through the boto3 access they are handed (see `aws.AwsAccess`), so
the enforcement gateway in front of moto decides what each role may do, exactly where AWS would.
"""
