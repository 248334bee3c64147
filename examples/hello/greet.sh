#!/bin/sh
echo "hello from $(id -un) in $(pwd)"
