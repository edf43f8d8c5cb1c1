"""boto3 adapters, one module per concern. Each function takes an `AwsSession` first, moves data
between AWS and the frozen dataclasses in `wsfleet.model`, and turns failures into `AwsError`
sentences. No validation, no confirmation, no printing: `wsfleet.actions` decides, these only do."""
