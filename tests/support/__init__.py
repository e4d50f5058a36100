"""Code the tests share: paths and real data, a moto server, running CLIs, reference checks."""
