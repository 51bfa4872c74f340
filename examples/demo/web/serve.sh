#!/bin/sh
# busybox httpd runs CGI scripts; / redirects to the script.
# busybox httpd serves CGI scripts from /www/cgi-bin.
exec httpd -f -p 8000 -h /www
