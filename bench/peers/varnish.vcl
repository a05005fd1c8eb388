vcl 4.1;
# Varnish with its built-in VCL; default TTL is set to 0 on the command line (-t 0) so that
# responses without explicit freshness are not cached (as the conformance suite asks).
backend default {
  .host = "127.0.0.1";
  .port = "{{upstream}}";
}
