#!/bin/sh
echo "Content-Type: text/plain"
echo
echo "web replica $(hostname): $(wget -q -O - "$API_URL")"
