description = 'pedestrian crossing behind the ego vehicle'
ego = get_objects_of_category(log_dir, category='EGO_VEHICLE')
peds = get_objects_of_category(log_dir, category='PEDESTRIAN')
result = reverse_relationship(being_crossed_by)(ego, peds, log_dir, direction='backward', forward_thresh=15, lateral_thresh=3)
output_scenario(result, description, log_dir, output_dir)
