description = 'bollard near any other object'
bollards = get_objects_of_category(log_dir, category='BOLLARD')
everything = get_objects_of_category(log_dir, category='ANY')
result = near_objects(bollards, everything, log_dir, distance_thresh=3, include_self=True, min_objects=2)
output_scenario(result, description, log_dir, output_dir)
