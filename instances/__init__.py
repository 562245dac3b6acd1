"""The shipped instance files, one folder per problem kind; installed as
``opt_offload.instances`` so that :func:`opt_offload.shipped` finds them from anywhere."""
