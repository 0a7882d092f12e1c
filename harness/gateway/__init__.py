"""Enforcement gateway for the embedded ``local`` target.

Building blocks of the WSGI middleware that sits in front of moto: credential store, SigV4
verification, request -> operation mapping, operation -> IAM authorization requests, AWS error
shapes and TLS material. The policy decision itself belongs to ``harness.policy``.
"""
