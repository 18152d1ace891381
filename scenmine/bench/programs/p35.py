# group of pedestrians near the ego vehicle (refav_parity program p35)
description = 'group of pedestrians near the ego vehicle'
ego_vehicle = get_objects_of_category(log_dir, category='EGO_VEHICLE')
peds = get_objects_of_category(log_dir, category='PEDESTRIAN')
peds_near_ego = reverse_relationship(near_objects)(ego_vehicle, peds, log_dir, distance_thresh=15, min_objects=3)
output_scenario(peds_near_ego, description, log_dir, output_dir)
