"""Tests of gammalike.maps (a package so that module names such as test_io do not clash)."""
