# pedestrian in front of the ego vehicle (refav_parity program p43)
description = 'pedestrian in front of the ego vehicle'
ego_vehicle = get_objects_of_category(log_dir, category='EGO_VEHICLE')
peds = get_objects_of_category(log_dir, category='PEDESTRIAN')
peds_in_front_of_ego = get_objects_in_relative_direction(ego_vehicle, peds, log_dir, direction='forward', within_distance=20, lateral_thresh=2)
output_scenario(peds_in_front_of_ego, description, log_dir, output_dir)
