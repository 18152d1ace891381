# pedestrian facing the ego vehicle (refav_parity program p25)
description = 'pedestrian facing the ego vehicle'
ego_vehicle = get_objects_of_category(log_dir, category='EGO_VEHICLE')
peds = get_objects_of_category(log_dir, category='PEDESTRIAN')
peds_facing_ego = facing_toward(peds, ego_vehicle, log_dir, within_angle=30, max_distance=20)
output_scenario(peds_facing_ego, description, log_dir, output_dir)
